export { saveSafetensors, loadSafetensors, readSafetensors, encodeSafetensors, decodeSafetensors, type SafetensorsContent } from './safetensors.js';
export { parseIdx, loadIdxDataset, type IdxArray, type IdxDataset } from './idx.js';
export { writePng, imageGrid, saveImageGrid, type GridOptions } from './png.js';
