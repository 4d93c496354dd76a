import type { RetrievedDocument } from "../genai/records.js";
import { field, firstNumber, firstString, stringField } from "./values.js";

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

export function readDocuments(documents: unknown): RetrievedDocument[] {
  if (!Array.isArray(documents)) return [];
  return documents.map((document) => {
    const metadata = field(document, "metadata");
    const result: RetrievedDocument = {};
    const id = stringField(document, "id") ?? firstString(metadata, ID_KEYS);
    if (id !== undefined) result.id = id;
    const score = firstNumber(metadata, SCORE_KEYS) ?? firstNumber(document, ["score"]);
    if (score !== undefined) result.score = score;
    const content = stringField(document, "pageContent");
    if (content !== undefined) result.content = content;
    return result;
  });
}
