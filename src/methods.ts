// Tensor methods as sugar over the op functions (x.add(y) is add(x, y)), attached to Tensor's
// prototype here so that tensor.ts imports no op: data flows one way, ops → tensor.
import { type BackwardOptions, backward } from './autograd/backward.js';
import { relu, sigmoid, tanh } from './ops/activation.js';
import { argmax, max, min } from './ops/argmax.js';
import { abs, add, clamp, div, exp, log, maskedFill, mul, neg, pow, sqrt, square, sub } from './ops/elementwise.js';
import { matmul } from './ops/matmul.js';
import { mean, sum } from './ops/reduce.js';
import { clone, narrow, permute, reshape, transpose } from './ops/shape.js';
import { logSoftmax, softmax } from './ops/softmax.js';
import { type Shape, Tensor } from './tensor.js';

declare module './tensor.js' {
  interface Tensor {
    /** Reverse-mode autodiff from this tensor; a non-scalar needs `grad` of the same shape. */
    backward(grad?: Tensor, opts?: BackwardOptions): void;
    /** A copy of the data in a new buffer (with gradient flow). */
    clone(): Tensor;
    /** {@link add}(this, o) */
    add(o: Tensor | number): Tensor;
    /** {@link sub}(this, o) */
    sub(o: Tensor | number): Tensor;
    /** {@link mul}(this, o) */
    mul(o: Tensor | number): Tensor;
    /** {@link div}(this, o) */
    div(o: Tensor | number): Tensor;
    /** {@link neg}(this) */
    neg(): Tensor;
    /** {@link exp}(this) */
    exp(): Tensor;
    /** {@link log}(this) */
    log(): Tensor;
    /** {@link sqrt}(this) */
    sqrt(): Tensor;
    /** {@link square}(this) */
    square(): Tensor;
    /** {@link relu}(this) */
    relu(): Tensor;
    /** {@link tanh}(this) */
    tanh(): Tensor;
    /** {@link sigmoid}(this) */
    sigmoid(): Tensor;
    /** {@link matmul}(this, o) */
    matmul(o: Tensor): Tensor;
    /** {@link sum}(this, dims, keepDim) */
    sum(dims?: number | number[], keepDim?: boolean): Tensor;
    /** {@link mean}(this, dims, keepDim) */
    mean(dims?: number | number[], keepDim?: boolean): Tensor;
    /** {@link reshape}(this, shape) */
    reshape(shape: Shape): Tensor;
    /** {@link transpose}(this, d0, d1) */
    transpose(d0: number, d1: number): Tensor;
    /** {@link permute}(this, dims) */
    permute(dims: readonly number[]): Tensor;
    /** {@link narrow}(this, dim, start, length) */
    narrow(dim: number, start: number, length: number): Tensor;
    /** {@link abs}(this) */
    abs(): Tensor;
    /** {@link pow}(this, exponent) */
    pow(exponent: number): Tensor;
    /** {@link clamp}(this, min, max) */
    clamp(min?: number | null, max?: number | null): Tensor;
    /** {@link maskedFill}(this, mask, value) */
    maskedFill(mask: Tensor, value: number): Tensor;
    /** {@link softmax}(this, dim) */
    softmax(dim?: number): Tensor;
    /** {@link logSoftmax}(this, dim) */
    logSoftmax(dim?: number): Tensor;
    /** {@link max}(this, dim, keepDim) */
    max(dim?: number, keepDim?: boolean): Tensor;
    /** {@link min}(this, dim, keepDim) */
    min(dim?: number, keepDim?: boolean): Tensor;
    /** {@link argmax}(this, dim, keepDim) */
    argmax(dim?: number, keepDim?: boolean): Tensor;
  }
}

const methods: { [K in keyof Tensor]?: (this: Tensor, ...args: never[]) => unknown } = {
  backward(grad?: Tensor, opts: BackwardOptions = {}) {
    backward(this, grad, opts);
  },
  clone() {
    return clone(this);
  },
  add(o: Tensor | number) {
    return add(this, o);
  },
  sub(o: Tensor | number) {
    return sub(this, o);
  },
  mul(o: Tensor | number) {
    return mul(this, o);
  },
  div(o: Tensor | number) {
    return div(this, o);
  },
  neg() {
    return neg(this);
  },
  exp() {
    return exp(this);
  },
  log() {
    return log(this);
  },
  sqrt() {
    return sqrt(this);
  },
  square() {
    return square(this);
  },
  relu() {
    return relu(this);
  },
  tanh() {
    return tanh(this);
  },
  sigmoid() {
    return sigmoid(this);
  },
  matmul(o: Tensor) {
    return matmul(this, o);
  },
  sum(dims?: number | number[], keepDim = false) {
    return sum(this, dims, keepDim);
  },
  mean(dims?: number | number[], keepDim = false) {
    return mean(this, dims, keepDim);
  },
  reshape(shape: Shape) {
    return reshape(this, shape);
  },
  transpose(d0: number, d1: number) {
    return transpose(this, d0, d1);
  },
  permute(dims: readonly number[]) {
    return permute(this, dims);
  },
  narrow(dim: number, start: number, length: number) {
    return narrow(this, dim, start, length);
  },
  abs() {
    return abs(this);
  },
  pow(exponent: number) {
    return pow(this, exponent);
  },
  clamp(lo?: number | null, hi?: number | null) {
    return clamp(this, lo, hi);
  },
  maskedFill(mask: Tensor, value: number) {
    return maskedFill(this, mask, value);
  },
  softmax(dim = -1) {
    return softmax(this, dim);
  },
  logSoftmax(dim = -1) {
    return logSoftmax(this, dim);
  },
  max(dim?: number, keepDim = false) {
    return max(this, dim, keepDim);
  },
  min(dim?: number, keepDim = false) {
    return min(this, dim, keepDim);
  },
  argmax(dim?: number, keepDim = false) {
    return argmax(this, dim, keepDim);
  },
};

for (const [name, fn] of Object.entries(methods)) {
  Object.defineProperty(Tensor.prototype, name, { value: fn, writable: true, configurable: true, enumerable: false });
}
