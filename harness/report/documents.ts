// The JSON documents kseries writes, each with a kind and a schema version
// at its top: results.json, claims.json, bisect.json and review JSON. Their
// JSON Schemas are schemas/<kind>.schema.json (validated in tests). Bump a
// version when a field changes meaning or goes away; adding a field does not.

export const DOCUMENTS = {
  results: { kind: 'kseries-results', schema: 1 },
  claims: { kind: 'kseries-claims', schema: 1 },
  bisect: { kind: 'kseries-bisect', schema: 1 },
  review: { kind: 'kseries-review', schema: 1 },
} as const;

export type DocumentName = keyof typeof DOCUMENTS;

/** The two fields every document starts with. */
export function documentHeader<N extends DocumentName>(name: N): (typeof DOCUMENTS)[N] {
  return { ...DOCUMENTS[name] };
}
