ALTER TABLE "interactions" ADD COLUMN "conversation_id" text;--> statement-breakpoint
ALTER TABLE "interactions" ADD COLUMN "client_id" text;--> statement-breakpoint
ALTER TABLE "interactions" ADD COLUMN "worker" text;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "secret_rules" text;--> statement-breakpoint
CREATE INDEX "interactions_conversation_id_created_at_index" ON "interactions" USING btree ("conversation_id","created_at");--> statement-breakpoint
CREATE INDEX "interactions_pending" ON "interactions" USING btree ("status") WHERE "interactions"."status" = 'pending';