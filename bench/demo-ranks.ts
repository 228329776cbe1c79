/**
 * The ranks TDLRT ends at in `npm run demo` (LeNet-5: conv2 16 × 11 with its 5 × 5 window whole,
 * fc1 20), which the step benches time TDLRT and tucker-fixed at, and the rank caps that hold an
 * integrator at τ = 0 there (each step augments and truncates back to them).
 */
export const DEMO_RANKS: Record<string, number[]> = { '3': [16, 11, 5, 5], '7': [20, 20] };

export function demoRankCaps(layer: string, mode: number): number {
  return layer === '3' ? ([16, 11][mode] ?? 5) : 20;
}
