import assert from 'node:assert/strict';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { Code, ServingError, failedPrecondition, internal, invalidArgument, notFound } from '../../errors.js';
import { ERROR_MESSAGE_LIMIT, toGrpcStatus } from './status.js';

describe('toGrpcStatus', () => {
  it('keeps a ServingError\'s code and message (our codes are gRPC\'s numbers)', () => {
    for (const code of Object.values(Code).filter((c): c is Code => typeof c === 'number' && c !== Code.OK)) {
      assert.equal(GrpcStatus[code as number as GrpcStatus], Code[code], `code ${code} has the same name in grpc-js`);
      assert.deepEqual(toGrpcStatus(new ServingError(code, 'why')), { code: code as number as GrpcStatus, details: 'why' });
    }
    assert.deepEqual(toGrpcStatus(notFound('Servable not found for request: Latest(x)')), {
      code: GrpcStatus.NOT_FOUND,
      details: 'Servable not found for request: Latest(x)',
    });
    assert.equal(toGrpcStatus(failedPrecondition('p')).code, GrpcStatus.FAILED_PRECONDITION);
    assert.equal(toGrpcStatus(invalidArgument('a')).code, GrpcStatus.INVALID_ARGUMENT);
    assert.equal(toGrpcStatus(internal('i')).code, GrpcStatus.INTERNAL);
  });

  it('turns anything else (and an OK or unknown code) into INTERNAL with its message', () => {
    assert.deepEqual(toGrpcStatus(new TypeError('x is undefined')), { code: GrpcStatus.INTERNAL, details: 'x is undefined' });
    assert.deepEqual(toGrpcStatus('plain string'), { code: GrpcStatus.INTERNAL, details: 'plain string' });
    assert.equal(toGrpcStatus(new ServingError(Code.OK, 'not an error')).code, GrpcStatus.INTERNAL);
    assert.equal(toGrpcStatus(new ServingError(99 as Code, 'from the future')).code, GrpcStatus.INTERNAL);
  });

  it('cuts messages over 1024 characters like TF Serving ("...TRUNCATED")', () => {
    const exact = 'e'.repeat(ERROR_MESSAGE_LIMIT);
    assert.equal(toGrpcStatus(invalidArgument(exact)).details, exact);
    assert.equal(toGrpcStatus(invalidArgument(`${exact}tail`)).details, `${exact}...TRUNCATED`);
  });
});
