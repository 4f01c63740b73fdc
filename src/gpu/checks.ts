// Checks that kernels make on the GPU (an embedding index outside its table): a kernel writes a
// code and two values into the device's check buffer, and the next readback reads that buffer
// along with its data and throws a WgslgradError naming what was wrong, as PyTorch raises at once.
import { WgslgradError } from '../errors.js';
import { gpuState } from './device.js';

const CHECK_BYTES = 16;
let checks: { device: GPUDevice; buffer: GPUBuffer } | null = null;

/** The device's check buffer, for a kernel that checks (made on first use, zeroed). */
export function checkBuffer(): GPUBuffer {
  const { device } = gpuState();
  if (!checks || checks.device !== device) {
    const buffer = device.createBuffer({ size: CHECK_BYTES, usage: 0x80 /* STORAGE */ | 0x04 /* COPY_SRC */ | 0x08 /* COPY_DST */ });
    checks = { device, buffer };
  }
  return checks.buffer;
}

/** The check buffer of the current device if a kernel has used it, and its size. */
export function usedCheckBuffer(): { buffer: GPUBuffer; bytes: number } | null {
  return checks && checks.device === gpuState().device ? { buffer: checks.buffer, bytes: CHECK_BYTES } : null;
}

/** Throws for a failed check read back as [code, value bits, limit, 0], and clears the buffer. */
export function raiseCheck(words: Uint32Array): void {
  const code = words[0]!;
  if (code === 0 || !checks) return;
  gpuState().device.queue.writeBuffer(checks.buffer, 0, new Uint32Array(4));
  if (code === 1) {
    const v = new Float32Array(words.buffer, words.byteOffset + 4, 1)[0]!;
    const V = words[2]!;
    throw new WgslgradError(
      'embedding',
      `index ${v} is not a row of the table (${V} rows: expected an integer in [0, ${V - 1}]); the rows it selected are NaN`,
    );
  }
  if (code === 2) {
    const v = new Float32Array(words.buffer, words.byteOffset + 4, 1)[0]!;
    const D = words[2]!;
    throw new WgslgradError('indexSelect', `index ${v} is not in the dim (${D} long: expected an integer in [0, ${D - 1}]); the values it selected are NaN`);
  }
  throw new WgslgradError('gpu', `a kernel reported check code ${code}`);
}
