import type { RetrievedDocument } from "../genai/records.js";
import type { Dict } from "./values.js";

/** Metadata keys of a document's score and id, best first (retrievers spell them differently). */
const SCORE_KEYS = [
  "score",
  "_score",
  "relevance_score",
  "relevanceScore",
  "similarity",
  "similarity_score",
  "distance",
];
const ID_KEYS = ["id", "_id", "doc_id", "document_id", "source"];
const SCORE_RANK = new Map(SCORE_KEYS.map((key, rank) => [key, rank]));
const ID_RANK = new Map(ID_KEYS.map((key, rank) => [key, rank]));

/**
 * The score and id in a document's metadata: one pass over its keys (metadata shapes vary by
 * retriever, and most of the spellings above are absent from any one of them).
 */
function readDocumentMetadata(metadata: unknown): { id?: string; score?: number } {
  const found: { id?: string; score?: number } = {};
  if (typeof metadata !== "object" || metadata === null) return found;
  const fields = metadata as Dict;
  let idRank = ID_KEYS.length;
  let scoreRank = SCORE_KEYS.length;
  try {
    for (const key in fields) {
      const asScore = SCORE_RANK.get(key);
      const asId = ID_RANK.get(key);
      if ((asScore === undefined && asId === undefined) || !Object.hasOwn(fields, key)) continue;
      const value = fields[key];
      if (
        asScore !== undefined &&
        asScore < scoreRank &&
        typeof value === "number" &&
        Number.isFinite(value)
      ) {
        scoreRank = asScore;
        found.score = value;
      }
      if (asId !== undefined && asId < idRank && typeof value === "string" && value.length > 0) {
        idRank = asId;
        found.id = value;
      }
    }
  } catch {
    // A getter that throws: keep what was read.
  }
  return found;
}

export function readDocuments(documents: unknown): RetrievedDocument[] {
  if (!Array.isArray(documents)) return [];
  return documents.map((document) => {
    const result: RetrievedDocument = {};
    if (typeof document !== "object" || document === null) return result;
    try {
      const fields = document as Dict;
      const fromMetadata = readDocumentMetadata(fields.metadata);
      const id = typeof fields.id === "string" && fields.id.length > 0 ? fields.id : fromMetadata.id;
      if (id !== undefined) result.id = id;
      const ownScore = fields.score;
      const score =
        fromMetadata.score ??
        (typeof ownScore === "number" && Number.isFinite(ownScore) ? ownScore : undefined);
      if (score !== undefined) result.score = score;
      const content = fields.pageContent;
      if (typeof content === "string" && content.length > 0) result.content = content;
    } catch {
      // A document with throwing accessors: what was read.
    }
    return result;
  });
}
