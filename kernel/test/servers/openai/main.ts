// `npm run fake:openai`: the OpenAI-compatible test server on PORT (default 5180), answering the evaluation-set
// requests with their reference SQL. Point the kernel at it with
//   OPENAI_BASE_URL=http://127.0.0.1:5180/v1 OPENAI_API_KEY=test PIPEBOOK_COPILOT_MODEL=test-model
import { evalSetResponder } from './responders.ts';
import { startOpenAiTestServer } from './server.ts';

const server = await startOpenAiTestServer({
  port: Number(process.env.PORT ?? 5180),
  host: process.env.HOST ?? '127.0.0.1',
  responder: evalSetResponder(),
});
console.log(`OpenAI-compatible test server at ${server.baseURL} (any bearer token)`);
const stop = async () => {
  await server.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
