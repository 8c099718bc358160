import assert from 'node:assert/strict';
import { REDACTED, parseRedactionRules, redact, rulesFor } from './redaction.js';

describe('payload log redaction rules', () => {
  it('replaces the values at dotted paths, with * for any key and model-scoped rules', () => {
    const rules = parseRedactionRules('predict_log.request.inputs.ssn, m2:predict_log.response.outputs.*, *.request.model_spec.signature_name');
    const record = () => ({
      predict_log: {
        request: { model_spec: { name: 'm', signature_name: 's' }, inputs: { ssn: { string_val: ['MTIz'] }, age: { float_val: [3] } } },
        response: { outputs: { y: { float_val: [1] }, z: { float_val: [2] } } },
      },
    });
    const m1 = record();
    redact(m1, rulesFor(rules, 'm1'));
    assert.equal(m1.predict_log.request.inputs.ssn, REDACTED);
    assert.deepEqual(m1.predict_log.request.inputs.age, { float_val: [3] });
    assert.deepEqual(m1.predict_log.response.outputs.y, { float_val: [1] }, 'the m2 rule does not apply to m1');
    assert.equal(m1.predict_log.request.model_spec.signature_name, REDACTED);
    const m2 = record();
    redact(m2, rulesFor(rules, 'm2'));
    assert.deepEqual(m2.predict_log.response.outputs, { y: REDACTED, z: REDACTED });
    assert.throws(() => parseRedactionRules('a..b'), /empty path segment/);
  });
});
