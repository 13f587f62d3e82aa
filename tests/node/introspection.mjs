// Prints the standard introspection query of the `graphql` package (what GraphiQL, codegen and
// Apollo tooling send), with every option graphql-js offers turned on, as one JSON string.
//
//   node introspection.mjs
import { getIntrospectionQuery } from 'graphql';

console.log(
  JSON.stringify({
    plain: getIntrospectionQuery(),
    full: getIntrospectionQuery({
      descriptions: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
      schemaDescription: true,
      inputValueDeprecation: true,
    }),
  }),
);
