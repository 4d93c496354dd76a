import { Document } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { BaseRetriever } from "@langchain/core/retrievers";

/** The demo shop's help-center articles. */
export const ARTICLES = [
  {
    id: "returns-policy",
    text: "Returns are accepted within 30 days of delivery for unused items in their original packaging.",
  },
  {
    id: "refund-timing",
    text: "Refunds are issued to the original payment method within 5 business days after the return arrives.",
  },
  {
    id: "shipping-times",
    text: "Standard shipping takes 3 to 5 business days; express shipping takes 1 to 2 business days.",
  },
  {
    id: "digital-goods",
    text: "Digital goods and gift cards cannot be returned once they have been delivered.",
  },
];

/**
 * A small vector search: the articles and the query are embedded with the given embeddings (in the
 * demo, a traced `OpenAIEmbeddings`), and articles are ranked by cosine similarity to the query,
 * the score kept in `metadata.score`. Stands in for a vector store: the articles are embedded on
 * the first search and kept in memory, where a real app would index them ahead of time.
 */
export class KnowledgeBaseRetriever extends BaseRetriever {
  lc_namespace = ["langchain_otel", "examples"];
  private index: Promise<number[][]> | undefined;

  constructor(
    private readonly embeddings: EmbeddingsInterface,
    private readonly limit = 2,
  ) {
    super({});
  }

  override async _getRelevantDocuments(query: string): Promise<Document[]> {
    const vectors = await this.articleVectors();
    const target = await this.embeddings.embedQuery(query);
    return ARTICLES.map(
      (article, i) =>
        new Document({
          id: article.id,
          pageContent: article.text,
          metadata: { score: Math.round(cosine(vectors[i], target) * 1000) / 1000 },
        }),
    )
      .filter((document) => document.metadata.score > 0)
      .sort((a, b) => b.metadata.score - a.metadata.score)
      .slice(0, this.limit);
  }

  private articleVectors(): Promise<number[][]> {
    if (this.index === undefined) {
      this.index = this.embeddings.embedDocuments(ARTICLES.map((article) => article.text));
      // A failed indexing is retried by the next search.
      this.index.catch(() => {
        this.index = undefined;
      });
    }
    return this.index;
  }
}

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    dot += a[i] * b[i];
    normA += a[i] * a[i];
    normB += b[i] * b[i];
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}
