// Tensor methods as sugar over the op functions (x.add(y) is add(x, y)), attached to Tensor's
// prototype here so that tensor.ts imports no op: data flows one way, ops → tensor.
import { type BackwardOptions, backward } from './autograd/backward.js';
import { relu, sigmoid, tanh } from './ops/activation.js';
import { add, div, exp, log, mul, neg, sqrt, square, sub } from './ops/elementwise.js';
import { matmul } from './ops/matmul.js';
import { mean, sum } from './ops/reduce.js';
import { clone, reshape, transpose } from './ops/shape.js';
import { type Shape, Tensor } from './tensor.js';

declare module './tensor.js' {
  interface Tensor {
    /** Reverse-mode autodiff from this tensor; a non-scalar needs `grad` of the same shape. */
    backward(grad?: Tensor, opts?: BackwardOptions): void;
    /** A copy of the data in a new buffer (with gradient flow). */
    clone(): Tensor;
    add(o: Tensor | number): Tensor;
    sub(o: Tensor | number): Tensor;
    mul(o: Tensor | number): Tensor;
    div(o: Tensor | number): Tensor;
    neg(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    sqrt(): Tensor;
    square(): Tensor;
    relu(): Tensor;
    tanh(): Tensor;
    sigmoid(): Tensor;
    matmul(o: Tensor): Tensor;
    sum(dims?: number | number[], keepDim?: boolean): Tensor;
    mean(dims?: number | number[], keepDim?: boolean): Tensor;
    reshape(shape: Shape): Tensor;
    transpose(d0: number, d1: number): Tensor;
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
};

for (const [name, fn] of Object.entries(methods)) {
  Object.defineProperty(Tensor.prototype, name, { value: fn, writable: true, configurable: true, enumerable: false });
}
