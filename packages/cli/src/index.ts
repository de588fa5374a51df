// packages/cli: public surface of this package.
export {};
