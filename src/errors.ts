/** The one error type the library throws: its message names the op, what it got and what it expected. */
export class WgslgradError extends Error {
  /** the op (or function, or CLI stage) that refused: `matmul`, `loadStateDict`, `args` */
  readonly op: string;
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
    this.name = 'WgslgradError';
    this.op = op;
  }
}

export const fmtShape = (s: readonly number[]): string => `[${s.join(',')}]`;
