// Every instrumented function reports here; the walk test records while the node runs.
globalThis.__klingWalk = () => {};
