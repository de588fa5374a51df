// operator: public surface of this package.
export {};
