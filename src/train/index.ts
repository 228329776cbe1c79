export { fit, evaluate, countCorrect, sgdStep, type FitOptions, type EpochRecord, type EvalResult, type BatchSource, type StepFn } from './fit.js';
export { ProgressLine, formatDuration } from './progress.js';
