/** Finding and replacing a layer of a model by its dotted name (layers inside Sequential containers). */
import { Sequential } from '../../nn/layers.js';
import type { Module } from '../../nn/module.js';

/** The layer called `name` (as in model.namedModules()); throws naming the known layers when absent. */
export function layerAt(model: Module, name: string): Module {
  const found = model.namedModules().find(([n]) => n === name);
  if (!found)
    throw new Error(
      `layerAt: the model has no layer '${name}' (layers: ${model
        .namedModules()
        .map(([n]) => n)
        .filter(Boolean)
        .join(', ')})`,
    );
  return found[1];
}

/** Puts `replacement` where the layer `name` is; the layer must sit inside a Sequential. */
export function replaceLayer(model: Module, name: string, replacement: Module): void {
  const cut = name.lastIndexOf('.');
  const parentName = cut < 0 ? '' : name.slice(0, cut);
  const index = Number(name.slice(cut + 1));
  const parent = parentName === '' ? model : layerAt(model, parentName);
  if (!(parent instanceof Sequential) || !Number.isInteger(index))
    throw new Error(`replaceLayer: '${name}' must name a layer inside a Sequential (parent '${parentName}' is ${parent.constructor.name})`);
  parent.set(index, replacement);
}
