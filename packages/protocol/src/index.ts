// packages/protocol: public surface of this package.
export {};
