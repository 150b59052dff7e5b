// A pre sign-up trigger written as Node Lambda code, served by
// tools/lambda_runner/lambda_runner.js for tests/python/test_triggers.py.
exports.handler = async (event) => {
  if (event.request.userAttributes.email.endsWith('@blocked.example')) {
    throw new Error('Blocked by the Node handler');
  }
  event.response.autoConfirmUser = true;
  return event;
};
