/** io: files, logs, checkpoints and plots. */
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
export {
  saveCheckpoint,
  loadCheckpoint,
  restoreModel,
  encodeCheckpoint,
  CHECKPOINT_FORMAT,
  type CheckpointContent,
  type LoadedCheckpoint,
} from './checkpoint.js';
