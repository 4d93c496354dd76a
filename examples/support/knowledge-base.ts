import { Document } from "@langchain/core/documents";
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
 * A small keyword retriever: scores each article by the share of query words it contains.
 * Stands in for a vector store so the demo needs no embeddings service.
 */
export class KnowledgeBaseRetriever extends BaseRetriever {
  lc_namespace = ["langchain_otel", "examples"];

  constructor(private readonly limit = 2) {
    super({});
  }

  override async _getRelevantDocuments(query: string): Promise<Document[]> {
    const words = new Set(query.toLowerCase().match(/[a-z]{3,}/g) ?? []);
    return ARTICLES.map((article) => {
      const text = article.text.toLowerCase();
      const hits = [...words].filter((word) => text.includes(word)).length;
      return new Document({
        id: article.id,
        pageContent: article.text,
        metadata: { score: words.size ? hits / words.size : 0 },
      });
    })
      .filter((document) => document.metadata.score > 0)
      .sort((a, b) => b.metadata.score - a.metadata.score)
      .slice(0, this.limit);
  }
}
