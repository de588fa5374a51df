// images/server: public surface of this package.
export {};
