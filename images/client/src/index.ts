// images/client: public surface of this package.
export {};
