// npm run schema: writes schema.graphql from the code (a test fails when the committed file differs).
import { writeFile } from "node:fs/promises";
import { printedSchema } from "../src/app/schema.js";

await writeFile(new URL("../schema.graphql", import.meta.url), await printedSchema());
console.log("schema.graphql written");
