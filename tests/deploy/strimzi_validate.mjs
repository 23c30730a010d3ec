// Validates Strimzi custom resources (a JSON array on stdin) with the compiled CRD validators of
// @kubernetes-models/strimzi-kafka-operator (its folder is the first argument). Prints a JSON
// array of error lines, empty when every object is valid. Used by tests/deploy/strimzi.py.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { join } from "node:path";

const packageDir = process.argv[2];
const objects = JSON.parse(readFileSync(0, "utf8"));
const errors = [];
for (const obj of objects) {
  const version = obj.apiVersion.split("/")[1];
  const module = `KafkaStrimziIo${version[0].toUpperCase()}${version.slice(1)}${obj.kind}.js`;
  const { validate } = await import(pathToFileURL(join(packageDir, "_schemas", module)).href);
  if (!validate(obj)) {
    for (const e of validate.errors) {
      errors.push(`${obj.kind}/${obj.metadata.name}: ${e.instancePath || "/"} ${e.keyword} ${JSON.stringify(e.params)}`);
    }
  }
}
process.stdout.write(JSON.stringify(errors));
