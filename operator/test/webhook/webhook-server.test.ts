// The HTTPS server as a client sees it: AdmissionReviews answered, garbage refused with 400 and a
// reason, certificate rotation without a restart.
import assert from "node:assert/strict";
import { request } from "node:https";
import { after, before, describe, it } from "node:test";
import { generateWebhookCerts } from "../../src/webhook/certs/webhook-certs.js";
import {
  MUTATE_PATH,
  VALIDATE_PATH,
  startWebhookServer,
  type WebhookServer,
} from "../../src/webhook/webhook-server.js";
import { jobWith } from "../../../packages/api/test/helpers/builders.js";
import { reviewOf } from "./review-builders.js";

const first = generateWebhookCerts({ hosts: ["127.0.0.1"] });
let server: WebhookServer;

before(async () => {
  server = await startWebhookServer({
    port: 0,
    host: "127.0.0.1",
    tls: { cert: first.certPem, key: first.keyPem },
  });
});
after(() => server.close());

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

function post(
  path: string,
  body: string,
  ca = first.caPem,
  contentType = "application/json",
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: server.port,
        path,
        method: "POST",
        ca,
        agent: false,
        headers: { "content-type": contentType },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (c: string) => (text += c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("webhook HTTPS server", () => {
  it("answers a validation review with the request's uid and the field in the message", async () => {
    const review = reviewOf("CREATE", jobWith({ training: { rounds: 0 } }));
    const r = await post(VALIDATE_PATH, JSON.stringify(review));
    assert.equal(r.status, 200);
    const response = r.body.response as { uid: string; allowed: boolean; status: { message: string } };
    assert.equal(response.uid, (review.request as { uid: string }).uid);
    assert.equal(response.allowed, false);
    assert.match(response.status.message, /^spec\.training\.rounds: must be ≥ 1/);
    assert.deepEqual([r.body.apiVersion, r.body.kind], ["admission.k8s.io/v1", "AdmissionReview"]);
  });
  it("answers a mutation review with a JSON patch", async () => {
    const r = await post(MUTATE_PATH, JSON.stringify(reviewOf("CREATE", jobWith({}))));
    const response = r.body.response as { allowed: boolean; patchType: string; patch: string };
    assert.deepEqual([r.status, response.allowed, response.patchType], [200, true, "JSONPatch"]);
    assert.ok(Array.isArray(JSON.parse(Buffer.from(response.patch, "base64").toString())));
  });
  const garbage: {
    name: string;
    path: string;
    body: string;
    contentType?: string;
    status: number;
    error: RegExp;
  }[] = [
    {
      name: "malformed JSON",
      path: VALIDATE_PATH,
      body: "{not json",
      status: 400,
      error: /not an AdmissionReview/,
    },
    { name: "a JSON number", path: MUTATE_PATH, body: "42", status: 400, error: /AdmissionReview/ },
    {
      name: "a review without uid",
      path: VALIDATE_PATH,
      body: JSON.stringify({
        apiVersion: "admission.k8s.io/v1",
        kind: "AdmissionReview",
        request: { operation: "CREATE" },
      }),
      status: 400,
      error: /request\.uid/,
    },
    {
      name: "a text/plain body",
      path: VALIDATE_PATH,
      body: "hello",
      contentType: "text/plain",
      status: 400,
      error: /not an AdmissionReview/,
    },
    { name: "an unknown path", path: "/validate", body: "{}", status: 404, error: /POST an AdmissionReview/ },
  ];
  for (const g of garbage) {
    it(`refuses ${g.name} with ${g.status} and a reason`, async () => {
      const r = await post(g.path, g.body, first.caPem, g.contentType);
      assert.equal(r.status, g.status);
      assert.match(String(r.body.error), g.error);
    });
  }
  it("serves a new certificate after setTls, and the old CA no longer verifies it", async () => {
    const second = generateWebhookCerts({ hosts: ["127.0.0.1"] });
    server.setTls({ cert: second.certPem, key: second.keyPem });
    const ok = await post(MUTATE_PATH, JSON.stringify(reviewOf("DELETE", null)), second.caPem);
    assert.equal(ok.status, 200);
    await assert.rejects(post(MUTATE_PATH, "{}", first.caPem), /self-signed|unable to verify|certificate/i);
  });
});
