export { saveSafetensors, loadSafetensors, readSafetensors, encodeSafetensors, decodeSafetensors, type SafetensorsContent } from './safetensors.js';
