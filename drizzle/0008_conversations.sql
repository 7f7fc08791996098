CREATE TABLE "conversations" (
	"id" text PRIMARY KEY NOT NULL,
	"title" text NOT NULL,
	"project" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "interactions" ADD COLUMN "conversation_id" text;--> statement-breakpoint
CREATE INDEX "conversations_project_updated_at_index" ON "conversations" USING btree ("project","updated_at");--> statement-breakpoint
CREATE INDEX "interactions_conversation_id_created_at_index" ON "interactions" USING btree ("conversation_id","created_at");