// The FITS library's public surface: import from here.
export * from './fits-error.js';
export * from './fits-header.js';
export * from './fits-structure.js';
export * from './fits-image.js';
export * from './fits-table.js';
export * from './fits-write.js';
export * from './fits-file.js';
