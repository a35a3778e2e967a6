// The smoke test a version ships: the service must answer 200 with the version the gate judges
// ($FERRY_VERSION, set by the pipeline; $VERSION when the Job runs on its own).
const expected = process.env.FERRY_VERSION ?? process.env.VERSION;
const res = await fetch(`http://127.0.0.1:${process.env.PORT}/`, { signal: AbortSignal.timeout(5000) }).catch((e) => ({ status: 0, text: async () => String(e) }));
const body = await res.text();
if (res.status !== 200 || !body.includes(`version=${expected}`)) {
  console.error(`smoke test failed: ${res.status} ${body.trim()}`);
  process.exit(1);
}
console.log(`smoke test passed: ${body.trim()}`);
