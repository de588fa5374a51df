// The list of generators `npm run gen` runs and `npm run verify` checks. Generators import the
// built packages (dist), so run `npm run build` first.
export const generators = [];
