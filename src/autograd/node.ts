export type { GradNode } from '../tensor/node.js';
