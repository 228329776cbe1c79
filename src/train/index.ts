export { fit, evaluate, countCorrect, sgdStep, type FitOptions, type EpochRecord, type EvalResult, type BatchSource, type StepFn } from './fit.js';
export { ProgressLine, formatDuration } from './progress.js';
export {
  saveCheckpoint,
  loadCheckpoint,
  restoreModel,
  encodeCheckpoint,
  CHECKPOINT_FORMAT,
  type CheckpointContent,
  type LoadedCheckpoint,
  type LoadCheckpointOptions,
} from './checkpoint.js';
