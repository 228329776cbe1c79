/** The low-rank (Tucker) layers of a model, with their dotted names, and their ranks: one filter for every caller. */
import type { Module } from '../nn/module.js';
import { TuckerLayer } from './tucker-layer.js';

/** Every TuckerLayer of `model` (Tucker convs, matrix convs, low-rank linears), in namedModules() order. */
export function tuckerLayers(model: Module): [string, TuckerLayer][] {
  return model.namedModules().filter((e): e is [string, TuckerLayer] => e[1] instanceof TuckerLayer);
}

/** The ranks of every low-rank layer by name ({} when there is none). */
export function tuckerRanks(model: Module): Record<string, number[]> {
  return Object.fromEntries(tuckerLayers(model).map(([n, l]) => [n, l.ranks]));
}
