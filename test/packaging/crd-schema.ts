/**
 * The TFModel CRD's openAPIV3Schema as a JSON Schema for ajv, so documents can be checked
 * structurally without an apiserver. Kubernetes' structural-schema extensions are translated:
 * x-kubernetes-int-or-string becomes anyOf integer|string, objects with properties and no
 * x-kubernetes-preserve-unknown-fields refuse unknown fields (as `kubectl apply`'s strict field
 * validation does), and the other x-kubernetes-* keywords are dropped. CEL rules
 * (x-kubernetes-validations) are the apiserver's job and are not evaluated here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import yaml from 'js-yaml';
import { REPO_ROOT } from '../support/corpus.js';

export const CRD_PATH = join(REPO_ROOT, 'crds', 'serving.tfmodel.dev_tfmodels.yaml');

type Schema = Record<string, unknown>;

function isObject(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Converts one schema node (and its sub-schemas). Values such as `default` and `enum` are kept as they are. */
export function toJsonSchema(node: Schema): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('x-kubernetes-')) continue;
    if (key === 'properties' && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, toJsonSchema(sub as Schema)]));
    } else if ((key === 'items' || key === 'not' || key === 'additionalProperties') && isObject(value)) {
      out[key] = toJsonSchema(value);
    } else if ((key === 'anyOf' || key === 'allOf' || key === 'oneOf') && Array.isArray(value)) {
      out[key] = value.map((sub) => toJsonSchema(sub as Schema));
    } else {
      out[key] = value;
    }
  }
  if (node['x-kubernetes-int-or-string'] === true && out['anyOf'] === undefined) {
    delete out['type'];
    out['anyOf'] = [{ type: 'integer' }, { type: 'string' }];
  }
  if (out['type'] === 'object' && out['properties'] !== undefined && out['additionalProperties'] === undefined && node['x-kubernetes-preserve-unknown-fields'] !== true) {
    out['additionalProperties'] = false;
  }
  return out;
}

/** The storage version's schema from crds/, converted. */
export function tfmodelJsonSchema(crdText = readFileSync(CRD_PATH, 'utf8')): Schema {
  const crd = yaml.load(crdText) as { spec: { versions: Array<{ name: string; storage: boolean; schema: { openAPIV3Schema: Schema } }> } };
  const version = crd.spec.versions.find((v) => v.storage);
  if (!version) throw new Error('the CRD has no storage version');
  return toJsonSchema(version.schema.openAPIV3Schema);
}

/** A validator of TFModel documents against the CRD's structural schema. */
export function tfmodelValidator(): ValidateFunction {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
  return ajv.compile(tfmodelJsonSchema());
}

export function describeErrors(errors: readonly ErrorObject[] | null | undefined): string {
  return (errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`).join('; ');
}
