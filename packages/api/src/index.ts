// packages/api: public surface of this package.
export {};
