// The TypeScript types generated from the committed document (openapi-typescript), used as an integrator's code
// would use them: .ci/typescript.sh generates schema.d.ts beside this file and type-checks both with --strict.
import type { components, paths } from "./schema";

type Schemas = components["schemas"];
type Json<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  responses: { 200: { content: { "application/json": infer T } } };
}
  ? T
  : never;

const record: Schemas["ProductIn"] = {
  sku: "SK2-FTE-230",
  brand: "SK-II",
  name_cn: "SK-II 护肤精华露",
  spec: "230 ml",
  category: "cosmetics",
  hs_code: "3304990099",
  origin_country: "JP",
};
const read: Json<"/v1/products/{sku}", "get"> = {} as Schemas["ProductOut"];
const declarable: boolean = ({} as Json<"/v1/lookup/{sku}", "get">).declarable;
const csv: paths["/v1/products.csv"]["get"]["responses"][200]["content"]["text/csv"] = "sku\n";
const report: paths["/v1/reports/expiring.csv"]["get"]["responses"][200]["content"]["text/csv"] = "sku\n";
// HEAD answers have no body: the document gives them no content.
type Head = paths["/v1/lookup/{sku}"]["head"]["responses"][200];
const head: Head extends { content?: never } ? true : false = true;
// The import's form: one part `file`.
type Form = NonNullable<paths["/v1/imports"]["post"]["requestBody"]>["content"]["multipart/form-data"];
const form: Form = { file: "rows" };
const location: string = ({} as paths["/v1/products"]["post"]["responses"][201]["headers"])["Location"];

export { record, read, declarable, csv, report, head, form, location };
