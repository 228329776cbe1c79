/**
 * A single live progress line on a TTY (rewritten in place), or one line per report elsewhere
 * (CI logs), throttled so that printing never costs training time.
 */
export class ProgressLine {
  private last = 0;
  private readonly tty: boolean;
  constructor(
    private readonly stream: NodeJS.WriteStream | null = process.stderr,
    private readonly minIntervalMs = 5000,
  ) {
    this.tty = Boolean(stream?.isTTY);
  }
  update(text: string, force = false): void {
    if (!this.stream) return;
    const now = Date.now();
    if (!force && now - this.last < (this.tty ? 100 : this.minIntervalMs)) return;
    this.last = now;
    if (this.tty) this.stream.write(`\r\x1b[2K${text}`);
    else this.stream.write(`${text}\n`);
  }
  done(text?: string): void {
    if (!this.stream) return;
    if (this.tty) this.stream.write(`\r\x1b[2K${text ?? ''}${text ? '\n' : ''}`);
    else if (text) this.stream.write(`${text}\n`);
  }
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  const s = Math.round(seconds);
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
