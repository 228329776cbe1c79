/** The safetensors format: in-memory codec, checksummed files, and Tensor conversions. */
export {
  encodeSafetensors,
  decodeSafetensors,
  type SafetensorsEntry,
  type SafetensorsTensors,
  type SafetensorsMetadata,
  type DecodedSafetensors,
} from './safetensors-codec.js';
export { saveSafetensors, loadSafetensors, encodeWithChecksum, CHECKSUM_KEY, FORMAT_KEY, type LoadedSafetensors } from './safetensors-file.js';
export { fromTensor, toTensor } from './safetensors-tensor.js';
export type { SafetensorsDType, SafetensorsData } from './safetensors-dtypes.js';
