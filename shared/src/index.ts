// Public surface of @pipebook/shared: the notebook model, graph, compiler and protocols every part imports.
export * from './errors.ts';
export * from './ids.ts';
export * from './notebook/file-format.ts';
export * from './notebook/operations.ts';
export * from './notebook/origins.ts';
export * from './notebook/read.ts';
export * from './notebook/schema.ts';
export * from './notebook/templates.ts';
