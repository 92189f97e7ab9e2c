// The reply editor: tiptap (ProseMirror) with its starter kit, a small toolbar, keyboard shortcuts
// (Ctrl+B, Ctrl+I, Ctrl+Shift+8 …). tiptap's own CSS injection is off (the page's CSP forbids inline
// <style>); styles.css styles the editor.
import { Editor } from '@tiptap/core';
import StarterKit from '@tiptap/starter-kit';
import { useEffect, useRef, useState } from 'preact/hooks';

/** What the composer reads from the editor. */
export interface EditorHandle {
  html(): string;
  text(): string;
  clear(): void;
  focus(): void;
  /** Inserts HTML at the cursor (tiptap keeps only what its schema knows). */
  insertHtml(html: string): void;
}

export function RichTextEditor(props: { label: string; onReady: (handle: EditorHandle) => void; onChange?: () => void }) {
  const host = useRef<HTMLDivElement>(null);
  const [editor, setEditor] = useState<Editor>();
  const [, redraw] = useState(0);
  useEffect(() => {
    if (!host.current) return;
    const instance = new Editor({
      element: host.current,
      extensions: [StarterKit.configure({ link: { openOnClick: false, autolink: true } })],
      injectCSS: false,
      editorProps: {
        attributes: { class: 'editor-content', role: 'textbox', 'aria-multiline': 'true', 'aria-label': props.label },
      },
      onTransaction: () => redraw((n) => n + 1),
      onUpdate: () => props.onChange?.(),
    });
    setEditor(instance);
    props.onReady({
      html: () => instance.getHTML(),
      text: () => instance.getText({ blockSeparator: '\n\n' }),
      clear: () => instance.commands.clearContent(true),
      focus: () => instance.commands.focus(),
      insertHtml: (html) => instance.chain().focus().insertContent(html).run(),
    });
    return () => instance.destroy();
  }, []);
  const tool = (label: string, active: boolean, run: () => void) => (
    <button type="button" class={active ? 'tool active' : 'tool'} aria-pressed={active} onClick={run} title={label}>
      {label}
    </button>
  );
  return (
    <div class="editor">
      <div class="toolbar" role="toolbar" aria-label="Formatting">
        {editor ? (
          <>
            {tool('Bold', editor.isActive('bold'), () => editor.chain().focus().toggleBold().run())}
            {tool('Italic', editor.isActive('italic'), () => editor.chain().focus().toggleItalic().run())}
            {tool('• List', editor.isActive('bulletList'), () => editor.chain().focus().toggleBulletList().run())}
            {tool('1. List', editor.isActive('orderedList'), () => editor.chain().focus().toggleOrderedList().run())}
            {tool('Quote', editor.isActive('blockquote'), () => editor.chain().focus().toggleBlockquote().run())}
          </>
        ) : null}
      </div>
      <div ref={host} />
    </div>
  );
}
