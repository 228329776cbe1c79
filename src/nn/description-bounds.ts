/**
 * Bounded work from a checkpoint's metadata: before any model is built, the model description
 * (builder, numClasses, inputShape, recorded layers) is checked against the tensors the file
 * actually holds. Without this, an inflated numClasses or layer size in a 200 KB file drove
 * allocations of most of a gigabyte before the shape check of the state load refused it.
 *
 * The rule: a layer may allocate no more elements than the file holds under its name (its
 * placeholders are at most its saved tensors), and every tensor of a builder layer that the
 * checkpoint does not describe must have exactly the builder's shape. Memory for restoring a model
 * is then proportional to the file's size.
 */
import { layerKinds, placeholderElements, product, isDim, type LayerSpec } from './describe.js';
import { builderShapes, type ModelBuilder, type ModelSpec } from './zoo.js';

/** Shapes per key, as the file holds them (model.* prefix removed). */
export type ShapeTable = Record<string, readonly number[]>;

/**
 * Throws (naming what does not fit) unless the description can be built within the file's tensors.
 * `builder` is the spec's builder, already looked up.
 */
export function checkDescriptionFits(spec: ModelSpec, builder: ModelBuilder, layers: readonly LayerSpec[], tensors: ShapeTable, where: string): void {
  const total = Object.values(tensors).reduce((a, s) => a + product(s), 0);
  if (!isDim(spec.numClasses) || spec.numClasses > total) {
    throw new Error(
      `${where}: tuckergrad.model numClasses ${JSON.stringify(spec.numClasses)} does not fit the ${total} weights the file holds (a classifier needs at least one per class)`,
    );
  }
  if (spec.inputShape.length !== builder.inputShape.length || spec.inputShape.some((v, i) => v !== builder.inputShape[i])) {
    throw new Error(
      `${where}: tuckergrad.model inputShape ${JSON.stringify(spec.inputShape)} is not the ${builder.inputShape.join('×')} that builder '${spec.builder}' takes`,
    );
  }
  const under = (name: string) => {
    const prefix = name ? `${name}.` : '';
    return Object.entries(tensors).reduce((a, [k, s]) => a + (k.startsWith(prefix) ? product(s) : 0), 0);
  };
  const names = layers.map((l) => l.name);
  for (const l of layers) {
    if (!layerKinds().includes(l.kind))
      throw new Error(`${where}: cannot rebuild layer '${l.name}': unknown layer kind ${JSON.stringify(l.kind)} (known: ${layerKinds().join(', ')})`);
    const need = placeholderElements(l);
    const have = under(l.name);
    if (!(need <= have)) {
      throw new Error(
        `${where}: tuckergrad.layers describes layer '${l.name}' (${l.kind}) with ${Number.isNaN(need) ? 'malformed sizes' : `${need} placeholder weights`}, but the file holds ${have} under '${l.name}.'`,
      );
    }
  }
  const covered = (k: string) => names.some((n) => n === '' || k.startsWith(`${n}.`));
  const problems: string[] = [];
  for (const [k, shape] of Object.entries(builderShapes(spec.builder, spec.dtype, spec.numClasses))) {
    if (covered(k)) continue;
    const got = tensors[k];
    if (!got) problems.push(`missing '${k}'`);
    else if (got.length !== shape.length || got.some((v, i) => v !== shape[i]))
      problems.push(`'${k}' is [${got.join(', ')}], the model needs [${shape.join(', ')}]`);
  }
  if (problems.length > 0) {
    throw new Error(
      `${where}: the tensors do not fit the model it describes (${spec.builder}, ${spec.numClasses} classes): ${problems.slice(0, 4).join('; ')}${problems.length > 4 ? `; and ${problems.length - 4} more` : ''}`,
    );
  }
}
