export { Module, type StateDict } from './module.js';
export { Parameter } from './parameter.js';
export * from './layers.js';
export { lenet5, smallVgg, resnet20, BasicBlock, type ModelOptions } from './models.js';
export { summary, type LayerSummary } from './summary.js';
export * as init from './init.js';
export * as functional from './functional.js';
