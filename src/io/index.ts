export { writeFileAtomic } from './atomic.js';
export { type IdxArray, type IdxDataset, loadIdxDataset, parseIdx } from './idx.js';
export { type GridOptions, imageGrid, saveImageGrid, writePng } from './png.js';
export { decodeSafetensors, encodeSafetensors, loadSafetensors, readSafetensors, type SafetensorsContent, saveSafetensors } from './safetensors.js';
