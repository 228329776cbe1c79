/** Whether ops record themselves on the tape. Off inside noGrad and during backward. */
let enabled = true;
let anomaly = false;

export function isGradEnabled(): boolean {
  return enabled;
}

/** Runs fn without recording any op: the results have no history (PyTorch's torch.no_grad). */
export function noGrad<T>(fn: () => T): T {
  const prev = enabled;
  enabled = false;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}

/** Runs fn with recording on, even inside noGrad. */
export function enableGrad<T>(fn: () => T): T {
  const prev = enabled;
  enabled = true;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}

/** Opt-in check of every op's output (and of every gradient in backward) for NaN/Inf. */
export function setDetectAnomaly(on: boolean): void {
  anomaly = on;
}

export function isAnomalyEnabled(): boolean {
  return anomaly;
}

export function detectAnomaly<T>(fn: () => T): T {
  const prev = anomaly;
  anomaly = true;
  try {
    return fn();
  } finally {
    anomaly = prev;
  }
}
