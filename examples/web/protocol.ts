/** Messages between the page (main.ts) and the training worker (worker.ts). */
import type { EvalReport, StepReport, TrainConfig } from './trainer.js';

export interface PageConfig extends TrainConfig {
  /** Kernel backend to install in the worker (see backends.ts). */
  backend: string;
}

export type ToWorker =
  /** Builds a fresh model and method (the reset button); training waits for 'start'. */
  { type: 'configure'; config: PageConfig } | { type: 'start' } | { type: 'pause' } | { type: 'checkpoint' };

export type RunState = 'loading' | 'idle' | 'running' | 'paused' | 'done' | 'error';

export type FromWorker =
  /** Digits loaded: what the page can offer, and the grid digits to draw (values in [0, 1]). */
  | {
      type: 'ready';
      methods: string[];
      backends: string[];
      trainSize: number;
      testSize: number;
      gridImages: Float32Array;
      gridLabels: number[];
      loadMs: number;
    }
  /** A run was set up: the backend actually installed (getBackend().name). */
  | { type: 'configured'; backend: string; config: PageConfig; stepsPerEpoch: number }
  | { type: 'step'; report: StepReport }
  | { type: 'eval'; report: EvalReport }
  | { type: 'state'; state: RunState }
  | { type: 'checkpoint'; bytes: ArrayBuffer; fileName: string }
  | { type: 'error'; message: string };
