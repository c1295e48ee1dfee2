import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { PostLoginFailure, type PostLoginExtension } from './post-login.js';

/**
 * The post-login extension as a Lambda function the operator deploys: invoked synchronously
 * (`RequestResponse`) with the event as payload; its return value is the result. An error the
 * function throws (`FunctionError`) or an unreadable payload is a failure.
 */
export function createLambdaPostLogin(client: LambdaClient, functionName: string): PostLoginExtension {
  return async (event, signal) => {
    const res = await client.send(
      new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: new TextEncoder().encode(JSON.stringify(event)) }),
      { abortSignal: signal },
    );
    if (res.FunctionError) throw new PostLoginFailure('function_error');
    const text = res.Payload ? new TextDecoder().decode(res.Payload) : '';
    if (!text) return {};
    try {
      return JSON.parse(text);
    } catch {
      throw new PostLoginFailure('invalid_result');
    }
  };
}
