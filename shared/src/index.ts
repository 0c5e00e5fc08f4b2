// Public surface of @pipebook/shared: the notebook model, graph, compiler and protocols every part imports.

export * from './compile/compile.ts';
export * from './compile/dialect.ts';
export * from './compile/hash.ts';
export * from './compile/quote.ts';
export * from './compile/source-map.ts';
export * from './compile/target.ts';
export * from './compile/visual.ts';
export * from './errors.ts';
export * from './graph/dag.ts';
export * from './graph/python.ts';
export * from './graph/references.ts';
export * from './graph/tokenize.ts';
export * from './ids.ts';
export * from './notebook/file-format.ts';
export * from './notebook/operations.ts';
export * from './notebook/origins.ts';
export * from './notebook/read.ts';
export * from './notebook/schema.ts';
export * from './notebook/templates.ts';
