// How bytes move: the NATS connection, its payload limit, and the codec per kind and direction.
import { z } from "zod";
import { objectName } from "./k8s.js";

export const CODECS = ["f32", "f16", "bf16", "int8"] as const;
export type Codec = (typeof CODECS)[number];

function codec(what: string) {
  return z
    .enum(CODECS)
    .default("f32")
    .meta({
      description: `Codec for ${what}: f32 (lossless), f16, bf16, or int8 with per-row scales (rows of 4 elements or fewer travel as bf16, never larger; ADR 0004 amendment 8).`,
    });
}

export const CompressionSchema = z
  .strictObject({
    activationsUp: codec("head activations, client → server"),
    activationsDown: codec("body activations, server → client"),
    gradientsUp: codec("gradients w.r.t. the body output, client → server"),
    gradientsDown: codec("gradients w.r.t. the head output, server → client"),
    parametersUp: codec("prompt and tail uploads, client → server"),
    parametersDown: codec("global prompt and tail, server → client"),
  })
  .meta({ description: "Tensor codecs per kind and direction of traffic." });

export const TransportSchema = z
  .strictObject({
    url: z
      .string()
      .max(2048)
      // Printable ASCII without spaces: [^\s] would mean Unicode spaces to zod, ASCII ones to the API
      // server. No server is lost: NATS's client connects to a host's xn-- form (WHATWG URL) anyway.
      .regex(/^(nats|tls|ws|wss):\/\/[!-~]+$/, {
        error:
          "must be a NATS URL such as nats://nats.example:4222, in printable ASCII without spaces: a host name in other letters in its xn-- form (bücher.example: xn--bcher-kva.example), other characters percent-encoded",
      })
      .optional()
      .meta({
        description:
          "URL of an existing NATS server with JetStream (comma-separate several), in printable ASCII: a host name in other letters in its xn-- (punycode) form, other characters percent-encoded. Unset: the bundled NATS of the Helm chart, or a nats-server that `sfprompt run` starts.",
      }),
    credentialsSecret: objectName(
      "Secret (in the job's namespace) with the NATS credentials: key `creds` (a .creds file), or keys `user` and `password`, or `token`.",
    ).optional(),
    maxPayload: z.int().min(1024).max(67108864).default(1048576).meta({
      description:
        "Largest NATS message in bytes (the server's max_payload); larger tensors are sent in chunks.",
    }),
    requestTimeoutSeconds: z.int().min(1).max(3600).default(30).meta({
      description: "How long a client waits for one body forward/backward reply before retrying it.",
    }),
  })
  .meta({ description: "The NATS data plane between clients and server." });

export type Compression = z.infer<typeof CompressionSchema>;
export type Transport = z.infer<typeof TransportSchema>;
