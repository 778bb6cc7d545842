// JSON.parse as it really is: the text can hold anything, so the caller narrows what it gets (its `any` stops here).
export const parseJson: (text: string) => unknown = JSON.parse;
