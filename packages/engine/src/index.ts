// packages/engine: public surface of this package.
export {};
