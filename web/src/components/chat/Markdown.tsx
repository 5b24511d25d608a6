import { memo, useMemo, useState, type KeyboardEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { Role } from '../../api/types';
import { accentToCss, roleTextStyle } from '../Avatar';
import { useChatView, useMentionName } from './chatContext';
import { parseMarkdown, type MdNode } from './markdownParser';
import './markdown.css';

interface MarkdownProps {
  content: string;
  serverId: string;
  roles: readonly Role[];
  meId: string;
  /**
   * Whether `@everyone` / `@here` pinged (the message's `mention_everyone`): only then are
   * they drawn as a mention; from someone without the permission they are plain text.
   */
  mentionEveryone: boolean;
}

/**
 * A message's markdown as React elements: every piece of user text ends up in
 * a text node (escaped by React), links are http(s) only and open in a new tab.
 */
export const Markdown = memo(function Markdown({ content, serverId, roles, meId, mentionEveryone }: MarkdownProps) {
  const nodes = useMemo(() => parseMarkdown(content), [content]);
  return <>{renderNodes(nodes, { serverId, roles, meId, mentionEveryone })}</>;
});

/** Markdown in the open channel's view: its server's roles and members, and us. */
export function ChatMarkdown({ content, mentionEveryone }: { content: string; mentionEveryone: boolean }) {
  const view = useChatView();
  return (
    <Markdown
      content={content}
      serverId={view.server.id}
      roles={view.server.roles}
      meId={view.me.id}
      mentionEveryone={mentionEveryone}
    />
  );
}

interface RenderContext {
  serverId: string;
  roles: readonly Role[];
  meId: string;
  mentionEveryone: boolean;
}

function renderNodes(nodes: readonly MdNode[], ctx: RenderContext): ReactNode[] {
  return nodes.map((node, i) => renderNode(node, i, ctx));
}

function renderNode(node: MdNode, key: number, ctx: RenderContext): ReactNode {
  switch (node.type) {
    case 'text':
      return node.text;
    case 'bold':
      return <strong key={key}>{renderNodes(node.children, ctx)}</strong>;
    case 'italic':
      return <em key={key}>{renderNodes(node.children, ctx)}</em>;
    case 'underline':
      return <u key={key}>{renderNodes(node.children, ctx)}</u>;
    case 'strike':
      return <s key={key}>{renderNodes(node.children, ctx)}</s>;
    case 'spoiler':
      return <Spoiler key={key}>{renderNodes(node.children, ctx)}</Spoiler>;
    case 'code':
      return (
        <code key={key} className="md-code">
          {node.text}
        </code>
      );
    case 'codeBlock':
      return (
        <pre key={key} className="md-pre" data-lang={node.lang ?? undefined}>
          <code>{node.text}</code>
        </pre>
      );
    case 'list': {
      const items = node.items.map((item, i) => <li key={i}>{renderNodes(item, ctx)}</li>);
      return node.ordered ? (
        <ol key={key} className="md-list" start={node.start}>
          {items}
        </ol>
      ) : (
        <ul key={key} className="md-list">
          {items}
        </ul>
      );
    }
    case 'quote':
      return (
        <blockquote key={key} className="md-quote">
          {renderNodes(node.children, ctx)}
        </blockquote>
      );
    case 'link':
      return (
        <a key={key} href={node.href} target="_blank" rel="noopener noreferrer" className="md-link" title={node.href}>
          {node.text}
        </a>
      );
    case 'userMention':
      return <UserMention key={key} serverId={ctx.serverId} userId={node.id} me={node.id === ctx.meId} />;
    case 'roleMention':
      return <RoleMention key={key} role={ctx.roles.find((r) => r.id === node.id) ?? null} />;
    case 'everyone':
      if (!ctx.mentionEveryone) return `@${node.name}`;
      return (
        <span key={key} className="md-mention" data-testid="mention">
          @{node.name}
        </span>
      );
    default:
      return null;
  }
}

function UserMention({ serverId, userId, me }: { serverId: string; userId: string; me: boolean }) {
  const { t } = useTranslation();
  const { name } = useMentionName(serverId, userId);
  return (
    <span className={me ? 'md-mention md-mention-me' : 'md-mention'} data-testid="mention" data-user-id={userId}>
      @{name ?? t('chat.mention.unknownUser')}
    </span>
  );
}

function RoleMention({ role }: { role: Role | null }) {
  const { t } = useTranslation();
  const color = accentToCss(role?.color ?? null);
  return (
    <span
      className="md-mention md-mention-role"
      data-testid="mention"
      data-role-id={role?.id}
      style={color ? { ...roleTextStyle(role?.color), backgroundColor: `color-mix(in srgb, ${color} 15%, transparent)` } : undefined}
    >
      {role ? (role.name.startsWith('@') ? role.name : `@${role.name}`) : `@${t('chat.mention.unknownRole')}`}
    </span>
  );
}

/** Hidden text, revealed by a click (or Enter / Space). */
function Spoiler({ children }: { children: ReactNode }) {
  const { t } = useTranslation();
  const [shown, setShown] = useState(false);
  if (shown) return <span className="md-spoiler md-spoiler-shown">{children}</span>;
  const reveal = () => setShown(true);
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      reveal();
    }
  };
  return (
    <span
      className="md-spoiler"
      role="button"
      tabIndex={0}
      aria-label={t('chat.spoiler')}
      title={t('chat.spoiler')}
      onClick={reveal}
      onKeyDown={onKeyDown}
      data-testid="spoiler"
    >
      <span aria-hidden="true" className="md-spoiler-content">
        {children}
      </span>
    </span>
  );
}
