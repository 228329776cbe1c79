/** io: files, logs, safetensors and plots. It knows bytes and files, not layers (checkpoints are in train/). */
export { writeFileAtomic, ensureDir, type FileData } from './files.js';
export { JsonlLogger, readJsonl, type JsonlLoggerOptions } from './jsonl.js';
export {
  encodeSafetensors,
  decodeSafetensors,
  saveSafetensors,
  loadSafetensors,
  fromTensor,
  toTensor,
  CHECKSUM_KEY,
  type SafetensorsEntry,
  type SafetensorsTensors,
  type SafetensorsMetadata,
  type DecodedSafetensors,
  type SafetensorsDType,
  type SafetensorsData,
} from './safetensors.js';
export { lineChart, scatterChart, stepChart, PALETTE, type ChartOptions, type ChartSeries } from './svg-plot.js';
export { niceTicks, logTicks, type Ticks } from './svg-ticks.js';
export { escapeXml } from './svg-xml.js';
export { encodeTree, decodeTree } from './state-tree.js';
